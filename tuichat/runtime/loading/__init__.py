"""Source to module and instance, as Open WebUI loads a function: frontmatter, requirements, errors."""
