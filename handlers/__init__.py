"""What the bot does, one router per audience. Handlers never touch HTTP or XML."""
