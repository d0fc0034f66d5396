from sim.hydra.cli import main

main()
