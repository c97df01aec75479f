<?php

declare(strict_types=1);

use Illuminate\Database\Migrations\Migration;
use Illuminate\Support\Facades\Schema;

/*
 * The extension owns the schema: it creates (or upgrades) s_workers, s_tasks,
 * s_task_leaders, s_task_schedules, s_task_processes and s_task_attempts on the connection and prefix the provider configured.
 */
return new class extends Migration
{
    public function up(): void
    {
        \Seiger\sTask\Facades\sTask::migrate();
    }

    public function down(): void
    {
        // Schema applies the connection's table prefix itself.
        Schema::dropIfExists('s_task_attempts');
        Schema::dropIfExists('s_task_processes');
        Schema::dropIfExists('s_task_schedules');
        Schema::dropIfExists('s_task_leaders');
        Schema::dropIfExists('s_tasks');
        Schema::dropIfExists('s_workers');
    }
};
