"""The web workspace: signed-in pages for PICs, leaders and admins (issue 10).

A browser signs in at ``/masuk/`` with its Kalender OPD account
(``signin``: the password is checked by the CalDAV application itself, so
bcrypt, LDAP, the login throttle and the log are CalDAV's) and then carries a
session cookie (``session``). What a page writes goes through the CalDAV
application as the signed-in login (``internal``), so the same guard, rights,
audit trail and Bentrok channel apply as to a calendar app's PUT. Every POST
carries a CSRF token, checked by ``kalender.web.app`` before a page runs.
"""
