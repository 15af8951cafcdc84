"""Knowledge base: article parsing, local embeddings, the vector index and incremental ingestion."""
