"""The delivery worker: claims due webhook deliveries, signs and POSTs them, records attempts."""
