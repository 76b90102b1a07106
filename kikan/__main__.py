"""`python -m kikan` is the same as the `kikan` command."""

from kikan.cli import app

app(prog_name="kikan")
