"""Helpers of the media endpoints (images, audio): image model parameters, PNG decoding, signed
URLs for results, transcript formats. Stdlib only."""
