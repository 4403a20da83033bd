"""Script writers: the offline template writer, the language-model writers and the script schema they share."""
