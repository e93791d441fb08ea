"""The HTTP application: its factory, its lifespan and typed state, its error answers and
its middleware. Services know nothing of HTTP; everything Starlette-shaped lives here or in
the routers and pages."""
