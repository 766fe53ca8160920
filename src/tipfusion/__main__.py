from tipfusion.cli.main import run

run()
