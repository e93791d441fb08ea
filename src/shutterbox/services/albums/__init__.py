"""Albums (an owner's ordered selections of their own images) and share links."""
