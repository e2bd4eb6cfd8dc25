"""What a chat shows for a reply: the model, the builder that fills it from steps, and its text."""
