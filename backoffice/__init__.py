"""The back office as a product (SPEC §11): the Pitboss admin site — its dashboard (the index)
and its navigation grouped by what staff do. An edge above every app: it reads their selectors
and no app imports it."""
