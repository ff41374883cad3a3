"""The application: the ``shallowchrome`` command line (and, later, the Flask track server)."""
