"""Source to module and instance, as Open WebUI loads a function: frontmatter, requirements and pip, load errors."""
