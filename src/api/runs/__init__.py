"""The run engine: objects whose work goes on after the request that made them (background
responses; later assistant runs and batch lines) run on the runs queue, claimed with renewable
leases so that at-least-once delivery and crashed consumers still end every run exactly once;
their stream events go to a log that clients follow and resume; a scheduled sweep retries
expired leases and clears what is left behind."""
