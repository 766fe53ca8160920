"""Requests: what is asked of ISPs and platforms so a suspect can be named, and what they answer.

`service` builds, tracks and follows up requests (`tipfusion requests …`); `isp` and `platforms` decide what each
ISP and each platform is asked (pure); `letters` writes the notices; `answers` validates and stores the answers.
"""
