{{ check_every_file_version() }}
