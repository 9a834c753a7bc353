"""The koenbert recipe: extend a Korean BERT with English pieces, then distil from both teachers."""
