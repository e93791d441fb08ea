"""Likes, comments and notifications."""
