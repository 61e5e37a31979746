/* The benchmark's target: a static program that does nothing, so every row of the
 * table measures only what runs in front of it. Built with `gcc -static -O2`. */
int main(void) { return 0; }
