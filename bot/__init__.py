"""Impact Bot: the backbone's assistant in Slack for a collective impact initiative."""

__version__ = "0.1.0"
