from tipfusion.cli.main import app

app()
