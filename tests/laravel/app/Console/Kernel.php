<?php

namespace App\Console;

use Illuminate\Console\Scheduling\Schedule;
use Illuminate\Foundation\Console\Kernel as ConsoleKernel;

class Kernel extends ConsoleKernel
{
    /** The host's own schedule: the package must add to it, not replace it. */
    protected function schedule(Schedule $schedule)
    {
        $schedule->command('host:ping')->hourly();
    }

    protected function commands()
    {
        require base_path('routes/console.php');
    }
}
