"""HTML pages for staff (R3: typed function views that start with a `get_<obj>_for_user` helper)."""
