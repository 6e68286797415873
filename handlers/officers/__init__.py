"""Officers (民警, 辅警, the station chief): binding, their powers, and refusing everyone else."""
