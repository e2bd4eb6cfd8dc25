"""What a chat shows for a reply: the model, the builder that fills it from steps, its text, and how it reads."""
