Console.Error.WriteLine("bench: workloads arrive with the GAN layer"); return 1;
