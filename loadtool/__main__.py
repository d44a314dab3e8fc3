from .cli import main

# Guarded: multiprocessing's spawn (dask's nanny workers use it) imports __main__ again.
if __name__ == "__main__":
    main()
