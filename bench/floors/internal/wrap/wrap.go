// Package wrap is the least a Go stage driver can do: start bash on the
// script with the same stdio, wait, and exit with its status. The floors
// beside it link more packages around the same main, so that what linking
// them costs every stage can be measured on its own.
package wrap

import (
	"os"
	"os/exec"
)

// Main runs `bash <os.Args[1]>` and exits with its status.
func Main() {
	c := exec.Command("bash", os.Args[1])
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := c.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		os.Exit(2)
	}
}
