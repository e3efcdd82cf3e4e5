"""Hidden tests, one pytest file per assignment: ``test_<assignment>.py``."""
