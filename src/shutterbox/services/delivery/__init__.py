"""Delivery: media URLs (signed where private, through the CDN) and purging them from the edges."""
