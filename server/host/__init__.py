"""The world host: the World, its tick, its journal and the services around it."""
