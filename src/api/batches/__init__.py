"""Batches (/v1/batches): a JSONL file of requests run on the run engine, line by line through the
live endpoints' own code, into output and error files. store (rows and the Batch object), jsonl
(reading and checking the input), queued (Workers AI's async batch API), execute (a chunk of
lines), finalize (the output files), executor (the phases of a batch's runs)."""
