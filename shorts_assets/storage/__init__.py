"""Where the media lives: a media root that is a local folder, a shared volume or object storage (S3).

The database and the assets' metadata hold only keys relative to the media root
(`<channel>/<date>/<video id>/short.mp4`); work that needs a file on this machine (ffmpeg, uploads to
the platforms) writes and reads it in a local work folder, and files move into the store whole.
"""

from shorts_assets.storage.config import MediaConfig, open_store
from shorts_assets.storage.errors import MediaStoreError
from shorts_assets.storage.keys import check_key, video_prefix
from shorts_assets.storage.store import MediaStore

__all__ = ["MediaConfig", "MediaStore", "MediaStoreError", "check_key", "open_store", "video_prefix"]
