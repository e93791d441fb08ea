"""Moderation: reports (``reports``), the admins' actions on images and accounts
(``actions``) and their audit log (``audit``)."""
