"""The vector-store machinery behind /v1/vector_stores and file_search: stores and attachments in D1,
ingestion (text extraction, chunking, embeddings) on the Queue, and search."""
