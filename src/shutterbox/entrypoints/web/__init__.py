"""Server-rendered web pages: Jinja2 templates, one stylesheet, small dependency-free scripts."""
