"""The Responses API's machinery (/v1/responses, /v1/conversations): input items, the request
mapped onto the generation engine, output items and typed stream events, storage of responses
and items, and background execution on the run engine."""
