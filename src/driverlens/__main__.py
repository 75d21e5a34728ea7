"""``python -m driverlens`` runs the console command."""

from driverlens.cli.main import app

if __name__ == "__main__":
    app()
