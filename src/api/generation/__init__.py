"""Text generation on Workers AI, shared by every API that generates text (chat, completions,
responses, assistant runs, batch lines): plan the model call, normalise every upstream shape,
enforce stops, tool calls and JSON, and yield neutral events that each API frames in its own wire format."""
