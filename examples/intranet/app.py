"""`flask --app examples/intranet/app.py run`: Acme's intranet with the telephony wizard at /telephony/."""

from intranet import create_app

app = create_app()
