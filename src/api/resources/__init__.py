"""One module per OpenAI resource; one async handler per operation. Resources never import each other."""
