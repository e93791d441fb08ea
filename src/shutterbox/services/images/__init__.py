"""Images: accepting uploads, processing them into variants, editing, deleting, feeds and
status events."""
