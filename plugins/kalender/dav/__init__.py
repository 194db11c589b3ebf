"""The Radicale glue: WSGI app, storage, rights and auth plugins, rendered feeds."""
