"""Floor: a bare typer app with one command, run as `python bench/bare_typer.py --help`."""
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world"):
    """Say hello."""
    print(f"hello {name}")


if __name__ == "__main__":
    app()
