"""The initiative's public face (SPEC §13): the scorecard and the community voice form."""
