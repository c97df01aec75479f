<?php

declare(strict_types=1);

use Illuminate\Database\Migrations\Migration;
use Illuminate\Support\Facades\DB;
use Illuminate\Support\Facades\Schema;

/*
 * The `stask` permission of Evolution CMS: group sTask, permission key
 * `stask`, granted to role 1 (Administrator). Skipped on hosts without
 * Evolution's permission tables (a plain Laravel application).
 */
return new class extends Migration
{
    public $withinTransaction = false;

    private const GROUP = 'sTask';
    private const KEY = 'stask';

    public function up(): void
    {
        if (!Schema::hasTable('permissions_groups') || !Schema::hasTable('permissions')) {
            return;
        }
        $this->repairSequences(['permissions_groups', 'permissions', 'role_permissions']);
        $now = date('Y-m-d H:i:s');

        $groupId = DB::table('permissions_groups')->where('name', self::GROUP)->value('id');
        if ($groupId === null) {
            $groupId = DB::table('permissions_groups')->insertGetId([
                'name' => self::GROUP,
                'lang_key' => 'sTask::global.permissions_group',
                'created_at' => $now,
                'updated_at' => $now,
            ]);
        }

        $permission = [
            'name' => 'Access sTask Interface',
            'lang_key' => 'sTask::global.permission_access',
            'group_id' => (int) $groupId,
            'disabled' => 0,
            'updated_at' => $now,
        ];
        if (DB::table('permissions')->where('key', self::KEY)->exists()) {
            DB::table('permissions')->where('key', self::KEY)->update($permission);
        } else {
            DB::table('permissions')->insert($permission + ['key' => self::KEY, 'created_at' => $now]);
        }

        if (Schema::hasTable('role_permissions')
            && !DB::table('role_permissions')->where('role_id', 1)->where('permission', self::KEY)->exists()) {
            DB::table('role_permissions')->insert([
                'role_id' => 1,
                'permission' => self::KEY,
                'created_at' => $now,
                'updated_at' => $now,
            ]);
        }

        // Evolution reads a manager's permissions once, at login.
        if (PHP_SAPI === 'cli' && defined('STDOUT')) {
            fwrite(STDOUT, "sTask: the `stask` permission (Access sTask Interface) is granted to the Administrator role (1); "
                . "managers who are logged in now must log out and log in again to see Tools > Task Manager. "
                . "Grant it to other roles under Users > Roles.\n");
        }
    }

    public function down(): void
    {
        if (Schema::hasTable('role_permissions')) {
            DB::table('role_permissions')->where('permission', self::KEY)->delete();
        }
        if (!Schema::hasTable('permissions') || !Schema::hasTable('permissions_groups')) {
            return;
        }
        DB::table('permissions')->where('key', self::KEY)->delete();
        $groupId = DB::table('permissions_groups')->where('name', self::GROUP)->value('id');
        if ($groupId !== null && !DB::table('permissions')->where('group_id', $groupId)->exists()) {
            DB::table('permissions_groups')->where('id', $groupId)->delete();
        }
    }

    /**
     * Evolution's seeders insert explicit ids, which leaves PostgreSQL
     * sequences behind the data; move each to MAX(id) before inserting.
     */
    private function repairSequences(array $tables): void
    {
        $connection = DB::connection();
        if ($connection->getDriverName() !== 'pgsql') {
            return;
        }
        foreach ($tables as $table) {
            if (!Schema::hasTable($table)) {
                continue;
            }
            $name = $connection->getTablePrefix() . $table;
            $connection->statement(
                "SELECT setval(pg_get_serial_sequence(?, 'id'), COALESCE((SELECT MAX(id) FROM \"{$name}\"), 0) + 1, false)",
                [$name]
            );
        }
    }
};
