"""The scoped service layer the web pages call: every read and change checked against need-to-know."""
