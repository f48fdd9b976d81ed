package state
import ("testing";"os";"strconv")
func TestDbg(t *testing.T){ cmd:=startFakeSupervisor(t,"supervise","--name=lab1"); b,_:=os.ReadFile("/proc/"+strconv.Itoa(cmd.Process.Pid)+"/stat"); t.Logf("%q %v",b, For("/x","lab1").SupervisorAlive(cmd.Process.Pid))}
