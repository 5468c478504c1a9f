{{ check_every_reject() }}
