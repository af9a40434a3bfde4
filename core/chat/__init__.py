"""Chat with the bot: questions answered from the team's incidents, requests made approval cards."""
