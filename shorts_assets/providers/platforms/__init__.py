"""Publishing, analytics and comments: YouTube, TikTok, Instagram, and the simulated platforms and audience."""
