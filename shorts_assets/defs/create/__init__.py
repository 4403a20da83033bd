"""Assets of the create group: scripts, clips, voiceovers and renders."""
